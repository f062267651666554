package vllmsim

import "sync"

// prefixBlockTokens is the prefix cache's block size in tokens (vLLM's default --block-size 16): only whole
// blocks are cached, and a request reuses the longest run of leading blocks already cached.
const prefixBlockTokens = 16

// blockHashes appends the chained hash of each whole block of ids: block i's hash covers ids[0:16(i+1)].
func blockHashes(dst []uint64, ids []int) []uint64 {
	var h uint64 = 14695981039346656037
	for i, id := range ids {
		h = mix64(h ^ uint64(id))
		if (i+1)%prefixBlockTokens == 0 {
			dst = append(dst, h)
		}
	}
	return dst
}

// prefixCache is the simulated automatic prefix cache: the hashes of whole prompt blocks computed so far, at
// most capBlocks of them, the oldest evicted first. Safe for concurrent use.
type prefixCache struct {
	mu        sync.Mutex
	set       map[uint64]struct{}
	ring      []uint64 // insertion order; ring[next] is the oldest once full
	next      int
	capBlocks int
}

func newPrefixCache(capTokens int) *prefixCache {
	n := max(capTokens/prefixBlockTokens, 1)
	return &prefixCache{set: make(map[uint64]struct{}), capBlocks: n}
}

// lookup returns how many of a prompt's n tokens are served from the cache (whole leading blocks already
// cached, at most n-1 tokens, since the last prompt token is always computed, as in vLLM V1), then caches
// every whole block of the prompt.
func (c *prefixCache) lookup(hashes []uint64, n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit := 0
	for hit < len(hashes) {
		if _, ok := c.set[hashes[hit]]; !ok {
			break
		}
		hit++
	}
	hit = min(hit, (n-1)/prefixBlockTokens)
	for _, h := range hashes[hit:] {
		c.insert(h)
	}
	return max(hit, 0) * prefixBlockTokens
}

func (c *prefixCache) insert(h uint64) {
	if _, ok := c.set[h]; ok {
		return
	}
	if len(c.ring) < c.capBlocks {
		c.ring = append(c.ring, h)
	} else {
		delete(c.set, c.ring[c.next])
		c.ring[c.next] = h
		c.next = (c.next + 1) % c.capBlocks
	}
	c.set[h] = struct{}{}
}
