import json
import os

import redis.asyncio as redis
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from .db import Item, get_session

app = FastAPI(title="fastapi-backend")
cache = redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


class ItemIn(BaseModel):
    name: str
    price: float


class ItemOut(ItemIn):
    id: int


@app.get("/health")
async def health(session: AsyncSession = Depends(get_session)):
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@app.get("/items", response_model=list[ItemOut])
async def list_items(limit: int = 50, session: AsyncSession = Depends(get_session)):
    cached = await cache.get(f"items:{limit}")
    if cached:
        return json.loads(cached)
    rows = (await session.scalars(select(Item).order_by(Item.id).limit(min(limit, 200)))).all()
    items = [{"id": r.id, "name": r.name, "price": float(r.price)} for r in rows]
    await cache.set(f"items:{limit}", json.dumps(items), ex=30)
    return items


@app.get("/items/{item_id}", response_model=ItemOut)
async def get_item(item_id: int, session: AsyncSession = Depends(get_session)):
    item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="item not found")
    return {"id": item.id, "name": item.name, "price": float(item.price)}


@app.post("/items", response_model=ItemOut, status_code=201)
async def create_item(body: ItemIn, session: AsyncSession = Depends(get_session)):
    item = Item(name=body.name, price=body.price)
    session.add(item)
    await session.commit()
    await session.refresh(item)
    return {"id": item.id, "name": item.name, "price": float(item.price)}
