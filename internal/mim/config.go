// Package mim knows the MIM Service node: its config file
// (Microsoft.ResourceManagement.Service.exe.config), the three names that bind
// requests and workflows to a node (externalHostName, serviceName,
// servicePartitionName), and the operations the provider runs on a node over
// WinRM. It is plain Go: no Terraform types.
package mim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Attribute names of the resourceManagementService element.
const (
	AttrExternalHostName     = "externalHostName"
	AttrServiceName          = "serviceName"
	AttrServicePartitionName = "servicePartitionName"
	elementName              = "resourceManagementService"
)

// ErrNoServiceElement means the config file has no resourceManagementService element.
var ErrNoServiceElement = errors.New("config file has no <resourceManagementService> element")

// Names are the three names of a node as written in the config file. A name
// absent from the file is "" here; Effective applies MIM's defaults.
type Names struct {
	ExternalHostName     string
	ServiceName          string
	ServicePartitionName string
}

// Effective applies MIM's defaults: serviceName defaults to the computer name
// and servicePartitionName to externalHostName; the partition name is compared
// and stored upper case, as MIM does.
func (n Names) Effective(computerName string) Names {
	out := n
	if out.ServiceName == "" {
		out.ServiceName = computerName
	}
	if out.ServicePartitionName == "" {
		out.ServicePartitionName = out.ExternalHostName
	}
	out.ServicePartitionName = strings.ToUpper(out.ServicePartitionName)
	return out
}

// ParseNames reads the names from config file content.
func ParseNames(content []byte) (Names, error) {
	tag, err := findServiceTag(content)
	if err != nil {
		return Names{}, err
	}
	var n Names
	for _, a := range tag.attrs {
		switch a.name {
		case AttrExternalHostName:
			n.ExternalHostName = a.value
		case AttrServiceName:
			n.ServiceName = a.value
		case AttrServicePartitionName:
			n.ServicePartitionName = a.value
		}
	}
	return n, nil
}

// SetAttributes returns content with the given attributes of the
// resourceManagementService element set to the given values. Only the bytes of
// the changed attribute values (or one inserted attribute) differ: everything
// else in the file, comments, order, quoting style, whitespace and line
// endings included, is kept byte for byte. Attributes whose value is already
// right are left untouched.
func SetAttributes(content []byte, set map[string]string) ([]byte, error) {
	tag, err := findServiceTag(content)
	if err != nil {
		return nil, err
	}
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	// Deterministic insertion order.
	sort.Strings(names)
	var inserts []string
	for _, name := range names {
		value := set[name]
		found := false
		for _, a := range tag.attrs {
			if a.name != name {
				continue
			}
			found = true
			if a.value != value {
				edits = append(edits, edit{a.valueStart, a.valueEnd, escapeAttr(value, a.quote)})
			}
		}
		if !found {
			inserts = append(inserts, " "+name+"="+`"`+escapeAttr(value, '"')+`"`)
		}
	}
	if len(inserts) > 0 {
		edits = append(edits, edit{tag.insertAt, tag.insertAt, strings.Join(inserts, "")})
	}
	if len(edits) == 0 {
		return append([]byte(nil), content...), nil
	}
	// Apply from the end so offsets stay valid.
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), content...)
	for _, e := range edits {
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	// The result must still be well-formed and carry exactly the wanted values.
	if got, err := ParseNames(out); err != nil {
		return nil, fmt.Errorf("edited config file does not parse: %w", err)
	} else {
		check := map[string]string{AttrExternalHostName: got.ExternalHostName, AttrServiceName: got.ServiceName, AttrServicePartitionName: got.ServicePartitionName}
		for k, v := range set {
			if w, ok := check[k]; ok && w != v {
				return nil, fmt.Errorf("edited config file reads %s=%q, want %q", k, w, v)
			}
		}
	}
	return out, nil
}

type attr struct {
	name                 string
	value                string
	valueStart, valueEnd int // raw (escaped) value bytes, without quotes
	quote                byte
}

type serviceTag struct {
	attrs    []attr
	insertAt int // offset just after the last attribute (before "/>" or ">")
}

// findServiceTag locates the resourceManagementService start tag with the
// standard XML decoder (so comments, CDATA and processing instructions are
// skipped correctly), then scans its raw bytes for attribute offsets.
func findServiceTag(content []byte) (*serviceTag, error) {
	if err := wellFormed(content); err != nil {
		return nil, fmt.Errorf("config file is not well-formed XML: %w", err)
	}
	dec := xml.NewDecoder(bytes.NewReader(content))
	dec.Strict = true
	for {
		before := dec.InputOffset()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil, ErrNoServiceElement
		}
		if err != nil {
			return nil, fmt.Errorf("config file is not well-formed XML: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != elementName || se.Name.Space != "" {
			continue
		}
		end := int(dec.InputOffset())
		return scanTag(content, int(before), end)
	}
}

// wellFormed decodes the whole document, which checks tag nesting.
func wellFormed(content []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(content))
	dec.Strict = true
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func scanTag(content []byte, start, end int) (*serviceTag, error) {
	raw := content[start:end]
	i := 1 + len(elementName) // after "<resourceManagementService"
	if !bytes.HasPrefix(raw, []byte("<"+elementName)) {
		return nil, fmt.Errorf("unexpected start tag at offset %d", start)
	}
	t := &serviceTag{}
	lastEnd := i
	for i < len(raw) {
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] == '/' || raw[i] == '>' {
			break
		}
		nameStart := i
		for i < len(raw) && raw[i] != '=' && !isSpace(raw[i]) {
			i++
		}
		name := string(raw[nameStart:i])
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] != '=' {
			return nil, fmt.Errorf("attribute %q without value", name)
		}
		i++
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return nil, fmt.Errorf("attribute %q is not quoted", name)
		}
		q := raw[i]
		i++
		vs := i
		for i < len(raw) && raw[i] != q {
			i++
		}
		if i >= len(raw) {
			return nil, fmt.Errorf("attribute %q is not terminated", name)
		}
		value, err := unescapeAttr(raw[vs:i])
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		t.attrs = append(t.attrs, attr{name: name, value: value, valueStart: start + vs, valueEnd: start + i, quote: q})
		i++
		lastEnd = i
	}
	t.insertAt = start + lastEnd
	return t, nil
}

func unescapeAttr(b []byte) (string, error) {
	var v struct {
		A string `xml:"a,attr"`
	}
	if err := xml.Unmarshal([]byte(`<x a="`+strings.ReplaceAll(string(b), `"`, "&quot;")+`"/>`), &v); err != nil {
		return "", err
	}
	return v.A, nil
}

// escapeAttr escapes a value for an attribute quoted with q. Line breaks and
// tabs become character references so XML attribute normalisation keeps them.
func escapeAttr(s string, q byte) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			if q == '"' {
				b.WriteString("&quot;")
			} else {
				b.WriteRune(r)
			}
		case '\'':
			if q == '\'' {
				b.WriteString("&apos;")
			} else {
				b.WriteRune(r)
			}
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		case '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
