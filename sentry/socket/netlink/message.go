package netlink

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// builder encodes one netlink message: a struct nlmsghdr, a fixed family
// header, then attributes, each padded to NLMSG_ALIGNTO as nlmsg_put and
// nla_put pad them (the padding counts in nlmsg_len).
type builder struct {
	b []byte
}

// newBuilder starts a message with the given header fields; its length is
// set by finish.
func newBuilder(typ, flags uint16, seq, pid uint32) *builder {
	m := &builder{b: make([]byte, linux.SizeofNlMsghdr, 256)}
	h := linux.NlMsghdr{Type: typ, Flags: flags, Seq: seq, PID: pid}
	h.MarshalBytes(m.b)
	return m
}

// pad appends zeros up to the alignment.
func (m *builder) pad() {
	for len(m.b)%linux.NLMSG_ALIGNTO != 0 {
		m.b = append(m.b, 0)
	}
}

// data appends a fixed header or payload.
func (m *builder) data(v []byte) {
	m.b = append(m.b, v...)
	m.pad()
}

// attr appends an attribute (struct nlattr / rtattr and its value).
func (m *builder) attr(typ uint16, v []byte) {
	m.b = binary.LittleEndian.AppendUint16(m.b, uint16(linux.SizeofRtAttr+len(v)))
	m.b = binary.LittleEndian.AppendUint16(m.b, typ)
	m.data(v)
}

func (m *builder) attrU8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *builder) attrU32(typ uint16, v uint32) {
	m.attr(typ, binary.LittleEndian.AppendUint32(nil, v))
}

// attrString appends a NUL-terminated string (nla_put_string).
func (m *builder) attrString(typ uint16, s string) {
	m.attr(typ, append([]byte(s), 0))
}

// finish sets nlmsg_len and returns the message.
func (m *builder) finish() []byte {
	binary.LittleEndian.PutUint32(m.b, uint32(len(m.b)))
	return m.b
}

// attribute is one parsed attribute of a request.
type attribute struct {
	typ   uint16
	value []byte
}

// nlaTypeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from a type.
const nlaTypeMask = 0x3fff

// parseAttrs parses the attributes in b. Like the kernel's liberal
// parsing (nla_parse_deprecated), a malformed tail ends the list rather
// than failing the request.
func parseAttrs(b []byte) []attribute {
	var out []attribute
	for len(b) >= linux.SizeofRtAttr {
		l := int(binary.LittleEndian.Uint16(b))
		if l < linux.SizeofRtAttr || l > len(b) {
			break
		}
		out = append(out, attribute{typ: binary.LittleEndian.Uint16(b[2:]) & nlaTypeMask, value: b[linux.SizeofRtAttr:l]})
		l = linux.NlmsgAlign(l)
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out
}

// sockaddr encodes a struct sockaddr_nl.
func sockaddr(pid, groups uint32) []byte {
	b := make([]byte, linux.SizeofSockAddrNetlink)
	a := linux.SockAddrNetlink{Family: linux.AF_NETLINK, PID: pid, Groups: groups}
	a.MarshalBytes(b)
	return b
}
