package cidr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// A Map built from a Table labels every address with label(Class(address)),
// its intervals are maximal (neighbours have different labels), and its index
// finds them on every boundary address.
func TestMapMatchesTable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rangeGen(40).Draw(t, "ranges")
		tab := Build(rs)
		mod := rapid.Uint32Range(1, 5).Draw(t, "labels")
		label := func(c uint32) uint32 { return (c * 2654435761) % mod }
		m := tab.Map(label)
		as := boundaries(rs)
		as = append(as, 0, math.MaxUint32)
		as = append(as, rapid.SliceOf(rapid.Uint32()).Draw(t, "extra")...)
		for _, a := range as {
			if got, want := m.Get(a), label(tab.Class(a)); got != want {
				t.Fatalf("Get(%s) = %d, want %d", AddrString(a), got, want)
			}
		}
		var prev *Interval
		next := uint64(0)
		for iv := range m.Intervals() {
			if uint64(iv.First) != next || iv.Last < iv.First {
				t.Fatalf("interval %+v does not follow %d", iv, next)
			}
			if prev != nil && prev.Class == iv.Class {
				t.Fatalf("adjacent intervals with one label: %+v %+v", *prev, iv)
			}
			if m.Get(iv.First) != iv.Class || m.Get(iv.Last) != iv.Class {
				t.Fatalf("interval %+v: Get disagrees", iv)
			}
			next = uint64(iv.Last) + 1
			p := iv
			prev = &p
		}
		if next != 1<<32 {
			t.Fatalf("intervals end at %d", next)
		}
		if m.NumIntervals() > tab.NumIntervals() {
			t.Fatalf("Map has %d intervals, Table %d", m.NumIntervals(), tab.NumIntervals())
		}
	})
}

// BuildMap is Build followed by Map with a label of the class's members: the
// same intervals and labels, and label sees each class once, in class order,
// with its member list.
func TestBuildMapEqualsBuildThenMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rangeGen(40).Draw(t, "ranges")
		tab := Build(rs)
		// A label that depends on the members alone: their hash.
		label := func(members []int32) uint32 {
			h := uint32(len(members))
			for _, m := range members {
				h = h*31 + uint32(m)
			}
			return h % 7
		}
		want := tab.Map(func(c uint32) uint32 { return label(tab.Members(c)) })
		var calls [][]int32
		got := BuildMap(rs, func(members []int32) uint32 {
			calls = append(calls, append([]int32(nil), members...))
			return label(members)
		})
		if len(calls) != tab.NumClasses() {
			t.Fatalf("label called %d times for %d classes", len(calls), tab.NumClasses())
		}
		for c, m := range calls {
			if !slices.Equal(m, tab.Members(uint32(c))) {
				t.Fatalf("call %d: members %v, class %d has %v", c, m, c, tab.Members(uint32(c)))
			}
		}
		if !slices.Equal(slices.Collect(got.Intervals()), slices.Collect(want.Intervals())) {
			t.Fatalf("intervals differ:\n got %v\nwant %v", slices.Collect(got.Intervals()), slices.Collect(want.Intervals()))
		}
		as := append(boundaries(rs), 0, math.MaxUint32)
		for _, a := range as {
			if got.Get(a) != want.Get(a) {
				t.Fatalf("Get(%s) = %d, want %d", AddrString(a), got.Get(a), want.Get(a))
			}
		}
	})
	if m := BuildMap(nil, func(members []int32) uint32 { return uint32(len(members)) + 5 }); m.Get(1) != 5 || m.NumIntervals() != 1 {
		t.Fatal("BuildMap of no ranges")
	}
}

// Concurrent BuildMaps, whose temporary Tables live in working memory that
// Builds hand on to each other, each get their own: every Map agrees with a
// Table built alone.
func TestBuildMapConcurrent(t *testing.T) {
	const workers = 4
	inputs := make([][]Range, workers)
	want := make([]*Table, workers)
	for w := range inputs {
		inputs[w] = randomRanges(rand.New(rand.NewPCG(uint64(w), 9)), 2000+500*w)
		want[w] = Build(inputs[w])
	}
	count := func(members []int32) uint32 { return uint32(len(members)) }
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 10))
			for range 20 {
				m := BuildMap(inputs[w], count)
				for range 500 {
					a := rng.Uint32()
					if got, exp := m.Get(a), count(want[w].Lookup(a)); got != exp {
						errs <- fmt.Sprintf("worker %d: Get(%s) = %d, want %d", w, AddrString(a), got, exp)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestMapZero(t *testing.T) {
	var m *Map
	if m.Get(12345) != 0 || m.NumIntervals() != 1 {
		t.Fatal("nil Map")
	}
	var tab *Table
	m = tab.Map(func(uint32) uint32 { return 7 })
	if m.Get(0) != 7 || m.Get(math.MaxUint32) != 7 || m.NumIntervals() != 1 {
		t.Fatal("Map of nil Table")
	}
	m = Build(nil).Map(func(uint32) uint32 { return 9 })
	if m.Get(1) != 9 {
		t.Fatal("Map of empty Table")
	}
}

// A large table uses a wide index: lookups still agree with the table.
func TestMapLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rs := randomRanges(rng, 300_000)
	tab := Build(rs)
	m := tab.Map(func(c uint32) uint32 { return c })
	for range 200_000 {
		a := rng.Uint32()
		if m.Get(a) != tab.Class(a) {
			t.Fatalf("Get(%s) = %d, Class = %d", AddrString(a), m.Get(a), tab.Class(a))
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { benchSink += m.Get(rng.Uint32()) }); allocs != 0 {
		t.Fatalf("Get allocates %v", allocs)
	}
}
