import json

from django.db import connection, transaction
from django.http import HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST


@require_GET
def health(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def stock_list(request):
    store = request.GET.get("store")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT sku, store_id, on_shelf, in_warehouse FROM stock WHERE store_id = %s ORDER BY sku LIMIT 500",
            [store],
        )
        rows = cur.fetchall()
    return JsonResponse(
        {"items": [dict(sku=r[0], store=r[1], onShelf=r[2], inWarehouse=r[3]) for r in rows]}
    )


@require_GET
def stock_detail(request, sku):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT store_id, on_shelf, in_warehouse FROM stock WHERE sku = %s ORDER BY store_id", [sku]
        )
        rows = cur.fetchall()
    return JsonResponse({"sku": sku, "stores": [dict(store=r[0], onShelf=r[1], inWarehouse=r[2]) for r in rows]})


@csrf_exempt
@require_POST
def stock_updates(request):
    """Batch of deltas pushed by a store's tills and handheld scanners."""
    try:
        body = json.loads(request.body)
        store, deltas = body["store"], body["deltas"]
    except (ValueError, KeyError):
        return HttpResponseBadRequest("expected {store, deltas: [{sku, shelf, warehouse}]}")
    with transaction.atomic(), connection.cursor() as cur:
        for d in deltas:
            cur.execute(
                "INSERT INTO stock (sku, store_id, on_shelf, in_warehouse) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (sku, store_id) DO UPDATE SET on_shelf = stock.on_shelf + EXCLUDED.on_shelf, "
                "in_warehouse = stock.in_warehouse + EXCLUDED.in_warehouse",
                [d["sku"], store, d.get("shelf", 0), d.get("warehouse", 0)],
            )
    return JsonResponse({"applied": len(deltas)})
