package testenv

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkMariaDBStart measures StartMariaDB with a warm template, up to the
// first successful SELECT 1, plus Close.
func BenchmarkMariaDBStart(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		m, err := StartMariaDB(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyTemplate measures the per-server copy of the template.
func BenchmarkCopyTemplate(b *testing.B) {
	bins, err := findMariaDB()
	if err != nil {
		b.Skip(err)
	}
	tpl, err := mariadbTemplate(context.Background(), bins)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := copyTemplate(tpl, filepath.Join(b.TempDir(), "data")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEtcdStart measures StartEtcd until ready, plus Close.
func BenchmarkEtcdStart(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "members=1", 3: "members=3"}[n], func(b *testing.B) {
			for b.Loop() {
				e, err := StartEtcd(context.Background(), n)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
