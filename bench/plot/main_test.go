package main

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const sample = `# bench/platforms.sh, test
getppid	ns/op	low	native	250
getppid	ns/op	low	ptrace	25000
getppid	ns/op	low	seccomptrap	500
seq read	MiB/s	high	native	4000
seq read	MiB/s	high	seccomptrap	2000
broken	ms	low	ptrace	3
`

func TestParseAndCost(t *testing.T) {
	p, err := parse(strings.NewReader(sample), "x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if p.title != "bench/platforms.sh, test" || len(p.rows) != 3 {
		t.Fatalf("title %q, %d rows", p.title, len(p.rows))
	}
	for _, tc := range []struct {
		row, col string
		want     float64
		ok       bool
	}{
		{"getppid", "ptrace", 100, true},
		{"getppid", "seccomptrap", 2, true},
		{"seq read", "seccomptrap", 2, true}, // throughput: native/sandbox
		{"broken", "ptrace", 0, false},       // no native figure
	} {
		var r *benchRow
		for _, row := range p.rows {
			if row.name == tc.row {
				r = row
			}
		}
		got, ok := r.cost(tc.col)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s/%s: cost %v %v, want %v %v", tc.row, tc.col, got, ok, tc.want, tc.ok)
		}
	}
	if _, err := parse(strings.NewReader("a\tb\tsideways\tc\t1\n"), "bad.tsv"); err == nil {
		t.Error("parsed a line whose direction is neither low nor high")
	}
}

// TestRender checks that each bar starts at native (1x) and is as long as
// its ratio on the log axis: a 100x bar twice as long as a 10x one.
func TestRender(t *testing.T) {
	p, err := parse(strings.NewReader(sample), "x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	render(&b, []*panel{p})
	svg := b.String()
	bars := regexp.MustCompile(`<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)" height="14" fill="[^"]+"><title>([^<]+)</title>`).FindAllStringSubmatch(svg, -1)
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3:\n%s", len(bars), svg)
	}
	widths := map[string]float64{}
	for _, m := range bars {
		x0, _ := strconv.ParseFloat(m[1], 64)
		w, _ := strconv.ParseFloat(m[2], 64)
		if math.Abs(x0-x(1)) > 0.1 {
			t.Errorf("bar %q starts at %v, not at native's %v", m[3], x0, x(1))
		}
		widths[m[3]] = w
	}
	ptrace, sct := widths["ptrace: 25000 ns/op"], widths["seccomptrap: 500 ns/op"]
	if sct <= 0 || math.Abs(ptrace/sct-math.Log10(100)/math.Log10(2)) > 0.01 {
		t.Errorf("bar widths %v and %v: not in proportion to log(100)/log(2)", ptrace, sct)
	}
	for _, want := range []string{"100×", "2.00×", "native 250 ns/op", "ptrace: FAIL", ">seccomptrap (as it runs by default, hot sites patched)<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}
