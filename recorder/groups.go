package recorder

// Bounds of the per-model and per-turn figures (Summary.ByModel, Summary.ByTurn).
const (
	// MaxGroups bounds the models, and the turns, a Recorder summarizes apart.
	MaxGroups = 64
	// GroupExactCap is how many values a group's distribution keeps exactly (64 KiB); past it, its
	// percentiles come from a DDSketch (SketchRelativeAccuracy), so that 2·MaxGroups groups of 10
	// distributions stay under about 80 MiB whatever the run's length.
	GroupExactCap = 1 << 13
)

// groups holds a Recorder's per-model and per-turn recorders: each keeps no rows, only the tallies and
// distributions, over the same start and goodput SLO as its parent.
type groups struct {
	byModel map[string]*Recorder
	byTurn  []*Recorder // byTurn[i] is turn i+1; nil where no request of that turn came yet
	leaf    bool        // a group's own recorder: no groups below it
}

// of returns the recorders a request of model and turn also goes to (nil for none), creating them while
// MaxGroups allows. Called with parent.mu held.
func (g *groups) of(parent *Recorder, model string, turn int) (byModel, byTurn *Recorder) {
	if parent.groups.leaf {
		return nil, nil
	}
	child := func() *Recorder {
		c := New(parent.start, Config{MaxRecords: -1, Goodput: parent.slo})
		c.groups.leaf = true
		for _, d := range []*dist{&c.ttft, &c.tpot, &c.e2e, &c.itl, &c.ttftInt, &c.e2eInt, &c.reject, &c.ttfo, &c.lag, &c.slotWait} {
			d.exactCapacity = GroupExactCap
		}
		return c
	}
	if model != "" {
		byModel = g.byModel[model]
		if byModel == nil && len(g.byModel) < MaxGroups {
			if g.byModel == nil {
				g.byModel = map[string]*Recorder{}
			}
			byModel = child()
			g.byModel[model] = byModel
		}
	}
	if turn > 0 && turn <= MaxGroups {
		for len(g.byTurn) < turn {
			g.byTurn = append(g.byTurn, nil)
		}
		if g.byTurn[turn-1] == nil {
			g.byTurn[turn-1] = child()
		}
		byTurn = g.byTurn[turn-1]
	}
	return byModel, byTurn
}

// copy returns the groups' recorders as they are now (the recorders themselves are shared; each is safe
// for concurrent use). Called with the parent's mu held.
func (g *groups) copy() groups {
	c := groups{byTurn: append([]*Recorder(nil), g.byTurn...)}
	if g.byModel != nil {
		c.byModel = make(map[string]*Recorder, len(g.byModel))
		for k, v := range g.byModel {
			c.byModel[k] = v
		}
	}
	return c
}

// summaries summarizes each group; a turn no request reached has a zero Summary.
func (g groups) summaries() (byModel map[string]Summary, byTurn []Summary) {
	return each(g, (*Recorder).Summarize)
}

// each returns f of each group's recorder, by model and by turn; a turn no request reached has the zero T.
func each[T any](g groups, f func(*Recorder) T) (byModel map[string]T, byTurn []T) {
	if g.byModel != nil {
		byModel = make(map[string]T, len(g.byModel))
		for k, r := range g.byModel {
			byModel[k] = f(r)
		}
	}
	if len(g.byTurn) > 0 {
		byTurn = make([]T, len(g.byTurn))
		for i, r := range g.byTurn {
			if r != nil {
				byTurn[i] = f(r)
			}
		}
	}
	return byModel, byTurn
}
