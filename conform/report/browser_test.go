package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var shot = flag.String("shot", "", "also write the Chromium screenshot of the sample report to this file, e.g. ../../docs/img/conform-report.png")

// browserTimeout bounds one Chromium run: a cold start on a loaded CI
// machine takes seconds, a hung one must not hold the suite.
const browserTimeout = 60 * time.Second

// window is the browser's viewport: wide enough for the page's column,
// tall enough that the first timeline is in the screenshot.
const windowW, windowH = 1280, 2000

// probe goes into the page under test only; the report has no script.
// It writes what the browser laid out into data attributes, which
// --dump-dom then shows: each timeline's box, and its shapes, counted once
// in all and once among those drawn with a non-empty box.
const probe = `<script>
for (const s of document.querySelectorAll("svg.timeline")) {
  const r = s.getBoundingClientRect();
  const shapes = [...s.querySelectorAll("rect, circle, line, polygon")].filter(e => !e.closest("defs"));
  const drawn = shapes.filter(e => { const b = e.getBoundingClientRect(); return b.width + b.height > 0; });
  let open = 0;
  for (const b of s.querySelectorAll("rect.open")) open += b.getBoundingClientRect().width;
  Object.assign(s.dataset, {
    x: Math.round(r.left + scrollX), y: Math.round(r.top + scrollY),
    w: Math.round(r.width), h: Math.round(r.height),
    shapes: shapes.length, drawn: drawn.length, open: Math.round(open),
  });
}
</script>
`

func TestHTMLRendersInChromium(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	file := filepath.Join(dir, "report.html")
	probed := strings.Replace(page, "</body>", probe+"</body>", 1)
	if err := os.WriteFile(file, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + file

	dom := runChromium(t, browser, "--dump-dom", url)
	boxes := timelineBoxes(t, dom)
	if len(boxes) != 2 {
		t.Fatalf("the browser shows %d timelines, want 2", len(boxes))
	}
	for i, box := range boxes {
		want := shapesOutsideDefs(svgSource(t, page, i))
		switch {
		case box["w"] < 500 || box["h"] < 100:
			t.Errorf("timeline %d laid out %dx%d: want it at least 500x100", i+1, box["w"], box["h"])
		case box["shapes"] != want:
			t.Errorf("timeline %d: the browser has %d shapes, the page %d", i+1, box["shapes"], want)
		case box["drawn"] != box["shapes"]:
			t.Errorf("timeline %d: %d of %d shapes drawn with an empty box", i+1, box["shapes"]-box["drawn"], box["shapes"])
		case box["open"] < 10:
			t.Errorf("timeline %d: open connections drawn %d px wide in all, want a visible bar", i+1, box["open"])
		}
	}

	png := filepath.Join(dir, "shot.png")
	runChromium(t, browser, "--screenshot="+png, url)
	img := decodePNG(t, png)
	first := boxes[0]
	region := image.Rect(first["x"], first["y"], first["x"]+first["w"], first["y"]+first["h"])
	if !region.In(img.Bounds()) {
		t.Fatalf("the first timeline %v lies outside the %v screenshot", region, img.Bounds())
	}
	inked, green := ink(img, region)
	if area := region.Dx() * region.Dy(); inked < area/50 {
		t.Errorf("the first timeline's region is nearly blank: %d of %d pixels inked", inked, area)
	}
	if green < 200 {
		t.Errorf("the first timeline shows %d green pixels: want its open connections and landed waits", green)
	}
	if *shot != "" {
		data, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*shot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// chromium finds Debian's Chromium. It is optional on a workstation but
// not in CI, which installs it: there a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "chromium not found on PATH: apt-get install chromium to check how the HTML report renders"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runChromium runs headless Chromium once, with a profile of its own, and
// returns its standard output.
func runChromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir=" + t.TempDir(),
		fmt.Sprintf("--window-size=%d,%d", windowW, windowH),
	}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second // its helpers may hold stdout open after a kill
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

var (
	svgTag = regexp.MustCompile(`<svg [^>]*class="timeline"[^>]*>`)
	attr   = regexp.MustCompile(`data-(x|y|w|h|shapes|drawn|open)="(-?\d+)"`)
)

// timelineBoxes reads the probe's numbers off each timeline in a dumped DOM.
func timelineBoxes(t *testing.T, dom string) []map[string]int {
	t.Helper()
	var out []map[string]int
	for _, tag := range svgTag.FindAllString(dom, -1) {
		box := map[string]int{}
		for _, m := range attr.FindAllStringSubmatch(tag, -1) {
			box[m[1]], _ = strconv.Atoi(m[2])
		}
		if len(box) != 7 {
			t.Fatalf("the probe did not measure a timeline: %s", tag)
		}
		out = append(out, box)
	}
	return out
}

// svgSource returns the i-th timeline of the page as written.
func svgSource(t *testing.T, page string, i int) string {
	t.Helper()
	parts := strings.Split(page, "<svg ")
	if i+1 >= len(parts) {
		t.Fatalf("the page has no timeline %d", i+1)
	}
	return parts[i+1][:strings.Index(parts[i+1], "</svg>")]
}

func shapesOutsideDefs(svg string) int {
	if i := strings.Index(svg, "</defs>"); i >= 0 {
		svg = svg[i:]
	}
	n := 0
	for _, s := range []string{"<rect ", "<circle ", "<line ", "<polygon "} {
		n += strings.Count(svg, s)
	}
	return n
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	return img
}

// ink counts the pixels of r that are not near white, and among them the
// clearly green ones (open bars, reconnects in their window).
func ink(img image.Image, r image.Rectangle) (inked, green int) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c, g, b, _ := img.At(x, y).RGBA()
			c, g, b = c>>8, g>>8, b>>8
			if c < 0xF0 || g < 0xF0 || b < 0xF0 {
				inked++
			}
			if g > 150 && c < 100 && b < 130 {
				green++
			}
		}
	}
	return inked, green
}
