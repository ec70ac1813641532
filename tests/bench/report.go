package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
)

func printLegend(o options) {
	fmt.Printf(`
   Every case: %d keep-alive connections of the tool's own HTTP/1.1 generator, a small chat request, the same fake
   upstream (a child process): whole answers are an OpenAI chat completion (or an Anthropic message) of ~8 KiB of text,
   streams 20 content events plus finish, usage and [DONE] (23 "data:" events; the translated stream's are the server's).
   reverse proxy = httputil.ReverseProxy in a child process (keep-alive to the upstream); cpa = the binary, two servers:
   defaults (usage statistics on, request log off = a log file per failed request only) and usage off.
   CPU = user+system time from /proc/<pid>/stat around the measured run (10 ms ticks) ÷ answers; ×proxy = ratio to the
   reverse proxy's figure of the same round (whole answers to "reverse proxy", streams to "reverse proxy, stream");
   allocs = go_memstats_mallocs_total of GET /metrics (runtime.MemStats.Mallocs for the reverse proxy) ÷ answers;
   generator and upstream CPU are per answer too, for context: they share the 2 cores with the server.
`, o.conns)
}

type roundTable struct{ tw *tabwriter.Writer }

func newRoundTable() *roundTable {
	t := &roundTable{tw: tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)}
	t.row("case", "req/s", "×proxy req/s", "server CPU µs/req", "×proxy CPU", "µs/event", "allocs/req", "generator µs/req", "upstream µs/req", "events/answer", "failed", "load avg")
	return t
}

func (t *roundTable) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *roundTable) add(c benchCase, m, base measurement) {
	ratioRate, ratioCPU := "—", "—"
	if c.baseline != "" && base.res.Answered > 0 && m.res.Answered > 0 {
		ratioRate = fmt.Sprintf("%.2f", m.rate()/base.rate())
		ratioCPU = fmt.Sprintf("%.2f", m.srvMicros()/base.srvMicros())
	}
	perEvent := "—"
	if c.stream && m.eventsPerAns > 0 {
		perEvent = fmt.Sprintf("%.1f", m.srvMicros()/m.eventsPerAns)
	}
	allocs := "n/a"
	if m.allocsOK {
		allocs = fmt.Sprintf("%.0f", m.allocsPerAnswer())
	}
	t.row(c.name, fmt.Sprintf("%.0f", m.rate()), ratioRate, fmt.Sprintf("%.0f", m.srvMicros()), ratioCPU, perEvent, allocs,
		fmt.Sprintf("%.0f", m.genMicros()), fmt.Sprintf("%.0f", m.upMicros()), fmt.Sprintf("%.1f", m.eventsPerAns),
		fmt.Sprint(m.res.Failed), m.loadAvg)
}

func (t *roundTable) flush() { _ = t.tw.Flush() }

// printSummary gives each case's figures over the rounds: every round's
// value and the mean of the per-round ratios.
func printSummary(all []benchCase, results [][]measurement) {
	fmt.Printf("\n## Summary over the rounds (each round's value; ratios are per round, then their mean)\n\n")
	t := &roundTable{tw: tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)}
	t.row("case", "req/s", "×proxy req/s", "server CPU µs/req", "×proxy CPU", "allocs/req")
	index := map[string]int{}
	for i, c := range all {
		index[c.name] = i
	}
	for i, c := range all {
		var rates, cpus, allocs []float64
		var rateRatios, cpuRatios []float64
		for r, m := range results[i] {
			rates = append(rates, m.rate())
			cpus = append(cpus, m.srvMicros())
			if m.allocsOK {
				allocs = append(allocs, m.allocsPerAnswer())
			}
			if c.baseline == "" {
				continue
			}
			if b := results[index[c.baseline]]; r < len(b) && b[r].res.Answered > 0 && m.res.Answered > 0 {
				rateRatios = append(rateRatios, m.rate()/b[r].rate())
				cpuRatios = append(cpuRatios, m.srvMicros()/b[r].srvMicros())
			}
		}
		t.row(c.name, list(rates, "%.0f"), ratioText(rateRatios), list(cpus, "%.0f"), ratioText(cpuRatios), meanText(allocs, "%.0f"))
	}
	t.flush()
}

func list(v []float64, format string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(s, ", ")
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func meanText(v []float64, format string) string {
	if len(v) == 0 {
		return "n/a"
	}
	return fmt.Sprintf(format, mean(v))
}

func ratioText(v []float64) string {
	if len(v) == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (mean %.2f)", list(v, "%.2f"), mean(v))
}
