// Command plot draws the benchmark results that bench/run.sh and
// bench/platforms.sh record (bench/out/*.tsv) as one SVG chart: for every
// benchmark, each platform's cost as a multiple of native, on a log scale.
//
//	go run ./bench/plot -o docs/bench.svg bench/out/platforms.tsv bench/out/run-seccomptrap.tsv
//
// A results file has a title line "# TITLE" and then one line per figure:
//
//	BENCHMARK <tab> UNIT <tab> low|high <tab> COLUMN <tab> VALUE
//
// where low or high says which way is better and COLUMN is "native" or a
// platform. Each file becomes a panel of the chart.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// panel is one results file.
type panel struct {
	title string
	rows  []*benchRow
}

// benchRow is one benchmark's figures.
type benchRow struct {
	name, unit string
	higher     bool // higher is better (throughput)
	values     map[string]float64
	columns    []string // in the order they were recorded, native included
}

// cost is column c's cost as a multiple of native's, and whether there is one.
func (r *benchRow) cost(c string) (float64, bool) {
	n, ok1 := r.values["native"]
	v, ok2 := r.values[c]
	if !ok1 || !ok2 || n <= 0 || v <= 0 {
		return 0, false
	}
	if r.higher {
		return n / v, true
	}
	return v / n, true
}

func parse(r io.Reader, name string) (*panel, error) {
	p := &panel{title: name}
	byName := map[string]*benchRow{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if title, ok := strings.CutPrefix(t, "# "); ok {
			p.title = title
			continue
		}
		if strings.TrimSpace(t) == "" {
			continue
		}
		f := strings.Split(t, "\t")
		if len(f) != 5 || (f[2] != "low" && f[2] != "high") {
			return nil, fmt.Errorf("%s:%d: want BENCHMARK, UNIT, low|high, COLUMN, VALUE separated by tabs", name, line)
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		row := byName[f[0]]
		if row == nil {
			row = &benchRow{name: f[0], unit: f[1], higher: f[2] == "high", values: map[string]float64{}}
			byName[f[0]] = row
			p.rows = append(p.rows, row)
		}
		if _, dup := row.values[f[3]]; !dup {
			row.columns = append(row.columns, f[3])
		}
		row.values[f[3]] = v
	}
	return p, sc.Err()
}

// Colours of the known columns; others get grey.
var colours = map[string]string{
	"ptrace":      "#d62728",
	"sct-trap":    "#ff7f0e",
	"seccomptrap": "#1f77b4",
}

// descriptions explain the legend's less obvious columns.
var descriptions = map[string]string{
	"sct-trap":    "seccomptrap, every syscall trapped",
	"seccomptrap": "as it runs by default, hot sites patched",
}

const (
	width    = 900
	labelW   = 190 // benchmark names
	barH     = 14
	gap      = 10 // between benchmarks
	minRatio = 0.1
	maxRatio = 1000.0
)

// x maps a cost ratio to a position on the log axis.
func x(ratio float64) float64 {
	ratio = math.Max(minRatio, math.Min(maxRatio, ratio))
	span := math.Log10(maxRatio) - math.Log10(minRatio)
	return labelW + (math.Log10(ratio)-math.Log10(minRatio))/span*(width-labelW-150)
}

// fmtValue rounds a figure to three significant digits.
func fmtValue(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func render(w io.Writer, panels []*panel) {
	var b strings.Builder
	y := 40.0
	seen := map[string]bool{}
	var legend []string
	for _, p := range panels {
		y += 30
		for _, r := range p.rows {
			y += gap
			for _, c := range r.columns {
				if c == "native" {
					continue
				}
				if !seen[c] {
					seen[c] = true
					legend = append(legend, c)
				}
			}
			y += r.height()
		}
		y += 20
	}
	height := y + 50
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">Cost as a multiple of native (log scale; lower is better; 1× = native)</text>`+"\n")
	top, bottom := 40.0, height-45
	// The axis: a line per decade, native's in black.
	for r := minRatio; r <= maxRatio*1.001; r *= 10 {
		colour := "#ddd"
		if r == 1 {
			colour = "#000"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s"/>`+"\n", x(r), top, x(r), bottom, colour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%s×</text>`+"\n", x(r), bottom+14, strconv.FormatFloat(r, 'g', -1, 64))
	}
	y = top
	for _, p := range panels {
		y += 22
		fmt.Fprintf(&b, `<text x="10" y="%.0f" font-weight="bold">%s</text>`+"\n", y, html.EscapeString(p.title))
		y += 8
		for _, r := range p.rows {
			y += gap
			native := "native FAIL"
			if n, ok := r.values["native"]; ok {
				native = "native " + fmtValue(n) + " " + r.unit
			}
			fmt.Fprintf(&b, `<text x="10" y="%.0f">%s</text>`+"\n", y+barH-2, html.EscapeString(r.name))
			fmt.Fprintf(&b, `<text x="10" y="%.0f" font-size="10" fill="#555">%s</text>`+"\n", y+barH+10, html.EscapeString(native))
			for _, c := range r.columns {
				if c == "native" {
					continue
				}
				colour := colours[c]
				if colour == "" {
					colour = "#888"
				}
				label := c + ": FAIL"
				if ratio, ok := r.cost(c); ok {
					x0, x1 := x(1), x(ratio)
					if x1 < x0 {
						x0, x1 = x1, x0
					}
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%d" fill="%s"><title>%s: %s %s</title></rect>`+"\n",
						x0, y, math.Max(x1-x0, 1), barH, colour, html.EscapeString(c), fmtValue(r.values[c]), html.EscapeString(r.unit))
					label = fmt.Sprintf("%s×  (%s %s)", fmtValue(ratio), fmtValue(r.values[c]), r.unit)
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="11">%s</text>`+"\n", math.Max(x(1), x(mustCost(r, c)))+4, y+barH-3, html.EscapeString(label))
				y += barH + 2
			}
			y += r.height() - float64(r.bars()*(barH+2))
		}
		y += 20
	}
	// Legend.
	lx := 10.0
	for _, c := range legend {
		colour := colours[c]
		if colour == "" {
			colour = "#888"
		}
		name := c
		if d := descriptions[c]; d != "" {
			name += " (" + d + ")"
		}
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, height-20, colour, lx+16, height-10, html.EscapeString(name))
		lx += 30 + 6.5*float64(len(name))
	}
	b.WriteString("</svg>\n")
	io.WriteString(w, b.String())
}

// bars is the number of bars of r (its columns but native).
func (r *benchRow) bars() int {
	n := 0
	for _, c := range r.columns {
		if c != "native" {
			n++
		}
	}
	return n
}

// height is the room r takes: its bars, and at least its two text lines.
func (r *benchRow) height() float64 {
	return math.Max(float64(r.bars()*(barH+2)), 28)
}

func mustCost(r *benchRow, c string) float64 {
	v, ok := r.cost(c)
	if !ok {
		return 1
	}
	return v
}

func main() {
	out := flag.String("o", "docs/bench.svg", "the SVG file to write")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: plot [-o FILE.svg] RESULTS.tsv...")
		os.Exit(2)
	}
	var panels []*panel
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "plot:", err)
			os.Exit(1)
		}
		p, err := parse(f, name)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "plot:", err)
			os.Exit(1)
		}
		panels = append(panels, p)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
	render(f, panels)
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
}
