package main

import (
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mysqletcd/mysqletcd"
)

// printConfig prints t's config as the driver will use it, as YAML that
// LoadConfig reads back; the etcd password is "***". It validates the
// config after printing it, so that a broken config can still be seen.
func printConfig(w io.Writer, t *target) error {
	text, err := configYAML(effectiveConfig(t.cfg))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# effective config of %s: defaults filled in, etcd password masked\n", t.configPath)
	w.Write(text)
	if err := t.cfg.Validate(); err != nil {
		return fmt.Errorf("%s:\n%w", t.configPath, err)
	}
	return nil
}

// effectiveConfig is cfg with the driver's defaults in place of the
// options it leaves unset.
func effectiveConfig(cfg mysqletcd.Config) mysqletcd.Config {
	cfg = cfg.WithDefaults()
	cfg.Logger = nil
	return cfg
}

// configYAML renders cfg as YAML with the etcd password masked, a JSON
// value written "json", and unset optional fields left out.
func configYAML(cfg mysqletcd.Config) ([]byte, error) {
	if cfg.Etcd.Password != "" {
		cfg.Etcd.Password = masked
	}
	var doc yaml.Node
	if err := doc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("render the config: %w", err)
	}
	tidyYAML(&doc)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("render the config: %w", err)
	}
	enc.Close()
	return []byte(b.String()), nil
}

// tidyYAML rewrites a value of {column: ""} (the JSON value) as "json",
// as LoadConfig expects, drops null, empty and empty-list fields, and
// writes lists of scalars and values on one line, as in the docs.
func tidyYAML(n *yaml.Node) {
	for _, c := range n.Content {
		tidyYAML(c)
	}
	if n.Kind == yaml.SequenceNode && allScalars(n.Content) {
		n.Style = yaml.FlowStyle
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "value" && v.Kind == yaml.MappingNode {
			v.Style = yaml.FlowStyle
			if len(v.Content) == 0 {
				v = &yaml.Node{Kind: yaml.ScalarNode, Value: "json"}
			}
		}
		if isEmptyNode(v) {
			continue
		}
		kept = append(kept, k, v)
	}
	n.Content = kept
}

func isEmptyNode(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Tag == "!!null" || (n.Tag == "!!str" && n.Value == "")
	case yaml.SequenceNode, yaml.MappingNode:
		return len(n.Content) == 0
	}
	return false
}

func allScalars(nodes []*yaml.Node) bool {
	for _, n := range nodes {
		if n.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}
