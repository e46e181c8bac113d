package conform

import (
	"os"
	"testing"
)

// FuzzParseScript: any file either parses or fails with an error naming
// the file and a line; it never panics.
func FuzzParseScript(f *testing.F) {
	for _, path := range bugFiles()[:3] {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(goodHeader + "\nfault refuse 503 attempts=1-3 during=1s..2s\n----\n")
	f.Add("# bug:\n#\n----\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseFile("f.txt", text)
		if err != nil {
			if se, ok := err.(*scriptError); !ok || se.path != "f.txt" || se.line < 1 {
				t.Fatalf("error %v does not name file and line", err)
			}
			return
		}
		if len(s.cmds) == 0 || s.header.bug == "" {
			t.Fatalf("parsed a script without commands or bug: %+v", s)
		}
	})
}
