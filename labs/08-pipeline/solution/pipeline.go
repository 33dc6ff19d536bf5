package solution

import "sync"

// Options tune the pipeline. The zero value means the defaults.
type Options struct {
	// InFlight is the most batches written at once; default 2. Each holds
	// a database connection while it is in flight (the server's pool has
	// 32). The lesson's sweep measures 1, 2, 4 and 8.
	InFlight int
}

// Pipeline runs a batching store's batches, several at once.
type Pipeline struct {
	inFlight int
}

// New returns a pipeline with opts.
func New(opts Options) *Pipeline {
	if opts.InFlight <= 0 {
		opts.InFlight = 2
	}
	return &Pipeline{inFlight: opts.InFlight}
}

// Run implements server.Pipeline: a batch is gathered as soon as a slot is
// free, and written beside the batches already in flight.
func (p *Pipeline) Run(next func() (flush func(), ok bool)) {
	slots := make(chan struct{}, p.inFlight)
	var wg sync.WaitGroup
	defer wg.Wait() // the store's Close waits for Run: every batch written
	for {
		// The slot first, then the batch: see the package doc.
		slots <- struct{}{}
		flush, ok := next()
		if !ok {
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			flush()
		})
	}
}
