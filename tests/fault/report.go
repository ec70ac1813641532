package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// report prints sections and tables as they are measured.
type report struct {
	w     io.Writer
	start time.Time
}

func (r *report) printf(format string, a ...any) { fmt.Fprintf(r.w, format, a...) }

func (r *report) section(title, about string) {
	r.printf("\n## %s   [load average %s, +%s]\n", title, harness.LoadAvg(), time.Since(r.start).Round(time.Second))
	for _, line := range strings.Split(about, "\n") {
		r.printf("   %s\n", line)
	}
	r.printf("\n")
}

type table struct {
	tw *tabwriter.Writer
}

func (r *report) table(headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(r.w, 0, 0, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t")
}

func (t *table) flush() { _ = t.tw.Flush() }
