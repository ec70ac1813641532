package proxy

import (
	"encoding/json"
	"net/http"
	"time"
)

// ComponentHealth is one component of GET /healthz: "ok", or another
// status with the last error (never a secret) and since when.
type ComponentHealth struct {
	Status string     `json:"status"`
	Error  string     `json:"error,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
}

// healthReport is GET /healthz's body: status "ok", or "degraded" when a
// component is not ok. A degraded instance still serves (it answers 200):
// it runs on what it last had, so a load balancer must not take it out.
type healthReport struct {
	Status     string                     `json:"status"`
	Components map[string]ComponentHealth `json:"components,omitempty"`
}

func (p *Proxy) healthz(w http.ResponseWriter, _ *http.Request) {
	report := healthReport{Status: "ok"}
	if p.health != nil {
		report.Components = p.health()
		for _, c := range report.Components {
			if c.Status != "ok" {
				report.Status = "degraded"
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(report)
}
