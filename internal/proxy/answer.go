package proxy

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
)

// MaxAnswerBytes bounds a whole (non-streamed) upstream answer that the
// proxy reads to translate it into another protocol (inline images make
// answers large). A larger answer is a failed attempt, like a 5xx.
const MaxAnswerBytes = 256 << 20

var errAnswerTooLarge = errors.New("The upstream's answer is larger than the proxy's limit of " +
	strconv.Itoa(MaxAnswerBytes>>20) + " MiB for a translated answer")

// translateAnswer reads a whole upstream answer of another protocol once,
// checks that it is an answer of that protocol, and translates it for the
// client into c.answer. The answer's body is the only large buffer: it is
// read into one buffer of its declared length, and its large values
// go to the client from it (translate.ParseAnswer).
func (p *Proxy) translateAnswer(c *call, resp *http.Response) error {
	raw, err := readAnswer(resp.Body, resp.ContentLength, p.maxAnswer)
	if err != nil {
		return err
	}
	p.big.read(c, len(raw))
	x := c.cross
	if capabilityOf(c.op) == capEmbed {
		return p.translateEmbedAnswer(c, resp, raw) // media.go
	}
	if isCount(c.op) {
		if err := translate.IsCountAnswer(x.to, raw); err != nil {
			return err
		}
		out, err := translate.CountResponse(x.to, x.from, raw)
		if err != nil {
			return err
		}
		c.answer = translate.AnswerOf(out)
		return nil
	}
	a, err := translate.ParseAnswer(x.to, x.from, raw, translate.Options{Model: c.model, Now: p.now()})
	if err != nil {
		return err
	}
	c.obs.setTokens(a.Tokens())
	c.answer = a
	return nil
}

// answerProbe is how much of a declared answer length is allocated
// before any of the answer has arrived.
const answerProbe = 4 << 20

// readAnswer reads body whole, up to limit bytes: into one buffer of the
// declared length n when there is one.
func readAnswer(body io.Reader, n, limit int64) ([]byte, error) {
	if n > limit {
		return nil, errAnswerTooLarge
	}
	if n >= 0 {
		// One buffer of the declared length, but allocated in full only
		// once its first part has arrived: an upstream that declares a
		// huge length and sends nothing costs no more than that part.
		raw := make([]byte, min(n, answerProbe))
		if _, err := io.ReadFull(body, raw); err != nil {
			return nil, err
		}
		if n > answerProbe {
			whole := make([]byte, n)
			copy(whole, raw)
			if _, err := io.ReadFull(body, whole[answerProbe:]); err != nil {
				return nil, err
			}
			raw = whole
		}
		return raw, nil
	}
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, errAnswerTooLarge
	}
	return raw, nil
}
