// The real tailsamplingprocessor (v0.139.0, the version github.com/jaegertracing/jaeger v1.75.0 =
// Jaeger 2.12.0 requires) decides the traces of cases.json (argument 2) with the tail_sampling
// configuration of argument 1 (decision_wait set to 1s) and prints the kept trace ids as a JSON
// list; an unknown key or an OTTL condition it cannot parse fails it. Built and run by
// test_jaeger_config.py::test_double_agrees_with_the_processor (ILP_TAIL_SAMPLING_CROSSCHECK=1).
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	tsp "github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor"
)

type span struct {
	Status int               `json:"status"`
	Attrs  map[string]string `json:"attrs"`
}
type trace struct {
	ID    string `json:"id"`
	Spans []span `json:"spans"`
}

func main() {
	var raw map[string]any
	b, _ := os.ReadFile(os.Args[1])
	must(json.Unmarshal(b, &raw))
	var cases []trace
	b, _ = os.ReadFile(os.Args[2])
	must(json.Unmarshal(b, &cases))
	raw["decision_wait"] = "1s"
	f := tsp.NewFactory()
	cfg := f.CreateDefaultConfig()
	must(confmap.NewFromStringMap(raw).Unmarshal(cfg))
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	must(err)
	must(p.Start(context.Background(), componenttest.NewNopHost()))
	for _, c := range cases {
		td := ptrace.NewTraces()
		ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
		var id pcommon.TraceID
		h, _ := hex.DecodeString(c.ID)
		copy(id[:], h)
		for i, s := range c.Spans {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(id)
			sp.SetSpanID(pcommon.SpanID{byte(i + 1)})
			sp.SetName("packet.process")
			sp.Status().SetCode(ptrace.StatusCode(s.Status))
			for k, v := range s.Attrs {
				sp.Attributes().PutStr(k, v)
			}
		}
		must(p.ConsumeTraces(context.Background(), td))
	}
	time.Sleep(4 * time.Second)
	must(p.Shutdown(context.Background()))
	kept := map[string]bool{}
	for _, td := range sink.AllTraces() {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			sss := rss.At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				spans := sss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					t := spans.At(k).TraceID()
					kept[hex.EncodeToString(t[:])] = true
				}
			}
		}
	}
	out := []string{}
	for k := range kept {
		out = append(out, k)
	}
	sort.Strings(out)
	j, _ := json.Marshal(out)
	fmt.Println(string(j))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
