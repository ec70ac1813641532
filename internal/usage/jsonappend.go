package usage

import (
	"encoding/json"
	"strconv"
	"time"
)

// The export writes a million buckets and details; these append exactly
// what json.Encoder.Encode writes for them (newline included), without
// reflection. TestAppendJSONMatchesEncoder keeps them equal.

func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // escapes, HTML-safe and invalid UTF-8 as the encoder does
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendField(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendStringField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendTokensJSON(b []byte, t *Tokens) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, t.Input, 10)
	b = appendField(b, "output_tokens", t.Output)
	b = appendField(b, "reasoning_tokens", t.Reasoning)
	b = appendField(b, "cached_tokens", t.Cached)
	b = appendField(b, "total_tokens", t.Total)
	return append(b, '}')
}

func appendBucketJSON(b []byte, k *bucketJSON) []byte {
	b = append(b, `{"hour":`...)
	b = strconv.AppendInt(b, k.Hour, 10)
	if k.Endpoint != "" {
		b = appendStringField(b, "endpoint", k.Endpoint)
	}
	b = appendStringField(b, "model", k.Model)
	if k.ClientKey != "" {
		b = appendStringField(b, "client_key", k.ClientKey)
	}
	if k.Credential != "" {
		b = appendStringField(b, "credential", k.Credential)
	}
	if k.Provider != "" {
		b = appendStringField(b, "provider", k.Provider)
	}
	b = appendField(b, "requests", k.Requests)
	b = appendField(b, "failures", k.Failures)
	if k.LatencyMS != 0 {
		b = appendField(b, "latency_ms", k.LatencyMS)
	}
	b = append(b, `,"tokens":`...)
	b = appendTokensJSON(b, &k.Tokens)
	return append(b, '}', '\n')
}

func appendDetailJSON(b []byte, d *Detail) []byte {
	if y := d.Timestamp.Year(); y < 0 || y > 9999 {
		j, _ := json.Marshal(d) // the encoder's own error path; never for stored details
		return append(append(b, j...), '\n')
	}
	b = append(b, `{"timestamp":"`...)
	b = d.Timestamp.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendStringField(b, "source", d.Source)
	b = appendStringField(b, "auth_index", d.AuthIndex)
	b = append(b, `,"tokens":`...)
	b = appendTokensJSON(b, &d.Tokens)
	b = append(b, `,"failed":`...)
	b = strconv.AppendBool(b, d.Failed)
	if d.RequestID != "" {
		b = appendStringField(b, "request_id", d.RequestID)
	}
	if d.ClientKey != "" {
		b = appendStringField(b, "client_key", d.ClientKey)
	}
	if d.Status != 0 {
		b = appendField(b, "status", int64(d.Status))
	}
	if d.LatencyMS != 0 {
		b = appendField(b, "latency_ms", d.LatencyMS)
	}
	return append(b, '}', '\n')
}
