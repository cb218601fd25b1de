package main

import (
	"encoding/json"
	"os"
	"sort"
)

// model is the nightly export of the recommender: per-user affinity scores
// and a bestseller list used when a user is unknown.
type model struct {
	Version     string                        `json:"version"`
	Affinities  map[string]map[string]float64 `json:"affinities"`
	Bestsellers []string                      `json:"bestsellers"`
}

type scored struct {
	SKU   string  `json:"sku"`
	Score float64 `json:"score"`
}

func loadModel(path string) (*model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *model) recommend(userID, context string, limit int) []scored {
	aff, ok := m.Affinities[userID]
	if !ok {
		out := make([]scored, 0, limit)
		for i, sku := range m.Bestsellers {
			if i == limit {
				break
			}
			out = append(out, scored{SKU: sku, Score: 0})
		}
		return out
	}
	out := make([]scored, 0, len(aff))
	for sku, s := range aff {
		if sku == context {
			continue // do not recommend the product the shopper is looking at
		}
		out = append(out, scored{SKU: sku, Score: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
