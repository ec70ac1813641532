package authfiles

import (
	"errors"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// SetDisabled flips only the flag, tells the write subscribers (the proxy
// reloads the account from that), and writes nothing when the flag is
// already as asked.
func TestSetDisabled(t *testing.T) {
	s := open(t)
	orig := "{\n  \"type\": \"codex\", \"n\": 1.50,\n  \"priority\": 3\n}\n"
	if err := s.Write("a.json", []byte(orig)); err != nil {
		t.Fatal(err)
	}
	var events []Event
	s.SubscribeWrites(func(e Event) { events = append(events, e) })
	if err := s.SetDisabled("a.json", true); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Read("a.json")
	if !strings.HasPrefix(string(b), "{\n  \"type\": \"codex\", \"n\": 1.50,\n  \"priority\": 3") || !strings.Contains(string(b), `"disabled":true`) {
		t.Fatalf("file: %s", b)
	}
	f, err := s.Stat("a.json")
	if err != nil || !f.Disabled || f.Priority == nil || *f.Priority != 3 {
		t.Fatalf("stat %+v %v", f, err)
	}
	if len(events) != 1 || events[0] != (Event{Name: "a.json", Op: Changed}) {
		t.Fatalf("events %+v", events)
	}
	if err := s.SetDisabled("a.json", true); err != nil || len(events) != 1 {
		t.Fatalf("a no-op wrote: %v %+v", err, events)
	}
	if err := s.SetDisabled("a.json", false); err != nil || len(events) != 2 {
		t.Fatalf("enable: %v %+v", err, events)
	}
	if f, _ := s.Stat("a.json"); f.Disabled {
		t.Fatal("still disabled")
	}
	if err := s.SetDisabled("gone.json", true); !errors.Is(err, ErrAuthFileNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if err := s.Write("arr.json", []byte(`[1]`)); err == nil {
		if err := s.SetDisabled("arr.json", true); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("not an object: %v", err)
		}
	}
}

func TestIntField(t *testing.T) {
	for in, want := range map[string]*int{`{"priority":5}`: ptrInt(5), `{"priority":"-2"}`: ptrInt(-2), `{"priority":1.5}`: nil, `{"priority":true}`: nil, `{}`: nil} {
		_, _, _, got := summary([]byte(in))
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("%s: %v", in, got)
		}
	}
}

func ptrInt(n int) *int { return &n }
