#!/usr/bin/env python3
"""Times `provisio mcp` tool calls from the official MCP Python client (pip install mcp): p50/p99 per tool.
Usage: bench-mcp.py PROVISIO_BINARY mcp [OPTIONS...] [--calls N]"""
import asyncio, statistics, sys, time
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

REQUEST = """apiVersion: provisio/v1alpha1
kind: ProvisionRequest
metadata: {name: orders}
spec:
  gitRepo: https://git.example.com/shop/orders
  description: Go/Gin API, 400 QPS at peak, P99 under 100 ms, production.
  target: {kubernetes: {namespace: shop}}
"""
REC = {"replicas": 3, "requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "384Mi"}}
CALLS = [
    ("search_knowledge", {"query": "spring boot heap", "limit": 5}),
    ("check_policy", {"path": "apps/orders/provision.yaml", "namespace": "shop", "tier": "production", "recommendation": REC}),
    ("estimate_cost", {"recommendation": REC}),
    ("validate_request", {"request": REQUEST}),
    ("check_plan", {"request": REQUEST, "recommendation": REC}),
    ("plan_request", {"request": REQUEST}),
]

async def main():
    args = sys.argv[2:]
    n = 50
    if "--calls" in args:
        i = args.index("--calls"); n = int(args[i + 1]); del args[i:i + 2]
    params = StdioServerParameters(command=sys.argv[1], args=args)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for name, arguments in CALLS:
                times = []
                for _ in range(n):
                    t = time.perf_counter()
                    r = await session.call_tool(name, arguments)
                    times.append((time.perf_counter() - t) * 1000)
                    if r.is_error:
                        sys.exit("%s failed: %s" % (name, r.content))
                times.sort()
                print("  %-17s p50 %6.2f ms  p99 %6.2f ms  (%d calls)" % (name, statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))], n))

asyncio.run(main())
