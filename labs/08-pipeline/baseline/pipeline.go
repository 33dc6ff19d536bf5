package baseline

// Pipeline runs a batching store's batches one at a time.
type Pipeline struct{}

// New returns the pipeline.
func New() *Pipeline { return &Pipeline{} }

// Run implements server.Pipeline: gather a batch, write it, and only then
// gather the next.
func (*Pipeline) Run(next func() (flush func(), ok bool)) {
	for {
		flush, ok := next()
		if !ok {
			return
		}
		flush()
	}
}
