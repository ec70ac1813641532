package proxy

import (
	"bytes"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// force-mapping (oauth-model-alias): an alias entry with force-mapping
// writes its alias back into the model fields of the upstream's answers,
// so a client asking for "g5" reads "g5" where the upstream said "gpt-5".
// Answers translated from another protocol already name the client's
// model; this is for answers relayed in the client's own protocol.

// answerModelPaths are where the four protocols' answers and stream events
// name their model: OpenAI chat and Responses objects, Claude's
// message_start, Responses events, Gemini.
var answerModelPaths = [...]string{"model", "message.model", "response.model", "modelVersion"}

// withAnswerModel sets every model field of a JSON answer or event that
// has one to model; anything else is returned unchanged.
func withAnswerModel(b []byte, model string) []byte {
	for _, path := range answerModelPaths {
		if gjson.GetBytes(b, path).Type != gjson.String {
			continue
		}
		if out, err := sjson.SetBytes(b, path, model); err == nil {
			b = out
		}
	}
	return b
}

var dataPrefix = []byte("data:")

// sseModelRewriter returns the line rewrite of a stream whose model
// fields must say model: a complete "data:" line holding a JSON object
// gets withAnswerModel; other lines (events, comments, [DONE], pieces of a
// line longer than the relay's buffer) pass as they are.
func sseModelRewriter(model string) func(line []byte) []byte {
	return func(line []byte) []byte {
		if !bytes.HasPrefix(line, dataPrefix) || line[len(line)-1] != '\n' {
			return line
		}
		payload := bytes.TrimLeft(line[len(dataPrefix):], " ")
		end := len(payload) - 1
		if end > 0 && payload[end-1] == '\r' {
			end--
		}
		obj := payload[:end]
		if len(obj) == 0 || obj[0] != '{' || !gjson.ValidBytes(obj) {
			return line
		}
		out := make([]byte, 0, len(line)+len(model))
		out = append(out, "data: "...)
		out = append(out, withAnswerModel(bytes.Clone(obj), model)...)
		return append(out, payload[end:]...)
	}
}
