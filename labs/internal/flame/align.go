package flame

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// stagePkg matches a lab's stage implementation in a function's name:
// github.com/flamelab/flamelab/labs/06-parsing/baseline.Parser.Parse.
var stagePkg = regexp.MustCompile(`(github\.com/flamelab/flamelab/labs/\d\d-[^/.]+)/(?:baseline|solution|exercise)\.`)

// stageFile matches the same packages in a source file's path.
var stageFile = regexp.MustCompile(`(labs/\d\d-[^/]+)/(?:baseline|solution|exercise)/`)

// StageName is what AlignStages calls every implementation of a lab's stage.
const StageName = "stage"

// AlignStages writes src to dst with every lab's baseline, solution and
// exercise package renamed to one, StageName
// (labs/06-parsing/baseline.Parser.Parse and labs/06-parsing/solution.Parser.Parse
// both become labs/06-parsing/stage.Parser.Parse). Before and after run
// different packages, so pprof's diff of the raw profiles draws the
// baseline's frame as removed and the solution's as new; aligned, it draws
// one frame that shrinks, which is what a learner reading a diff wants.
func AlignStages(src, dst string) error {
	p, err := Load(src)
	if err != nil {
		return err
	}
	for _, f := range p.Function {
		if !stagePkg.MatchString(f.Name) {
			continue
		}
		f.Name = stagePkg.ReplaceAllString(f.Name, "${1}/"+StageName+".")
		f.SystemName = stagePkg.ReplaceAllString(f.SystemName, "${1}/"+StageName+".")
		// pprof tells functions apart by file and first line too: the
		// same name from two files would still be two frames.
		f.Filename = stageFile.ReplaceAllString(f.Filename, "${1}/"+StageName+"/")
		f.StartLine = 0
	}
	for _, l := range p.Location {
		for i := range l.Line {
			if fn := l.Line[i].Function; fn != nil && strings.Contains(fn.Name, "/"+StageName+".") {
				l.Line[i].Line = 0 // lines of different files do not compare
			}
		}
	}
	return Write(p, dst)
}

// Summary is what a profile's page says about the profile itself.
type Summary struct {
	Type     string        // the sample type read, e.g. "cpu", "alloc_objects"
	Unit     string        // its unit, e.g. "nanoseconds", "count", "bytes"
	Total    int64         // the sum of that value over every sample
	Duration time.Duration // the window it was taken over; 0 if it does not say
}

// Summarize reads the totals of the profile at path for sampleType ("" for
// the profile's default, its last type).
func Summarize(path, sampleType string) (Summary, error) {
	p, err := Load(path)
	if err != nil {
		return Summary{}, err
	}
	return summarize(p, sampleType)
}

func summarize(p *profile.Profile, sampleType string) (Summary, error) {
	idx := len(p.SampleType) - 1
	if sampleType != "" {
		idx = -1
		for i, st := range p.SampleType {
			if st.Type == sampleType {
				idx = i
			}
		}
		if idx < 0 {
			return Summary{}, fmt.Errorf("profile has no sample type %q", sampleType)
		}
	}
	s := Summary{Type: p.SampleType[idx].Type, Unit: p.SampleType[idx].Unit, Duration: time.Duration(p.DurationNanos)}
	for _, smp := range p.Sample {
		s.Total += smp.Value[idx]
	}
	return s, nil
}

// Write writes p to path as a gzipped profile.proto, as pprof reads it.
func Write(p *profile.Profile, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
