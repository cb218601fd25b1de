package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

type handlers struct {
	db    *pgxpool.Pool
	cache *redis.Client
}

type order struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customerId"`
	TotalCents int64     `json:"totalCents"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"createdAt"`
}

func (h *handlers) health(c *gin.Context) {
	if err := h.db.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "db unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (h *handlers) listOrders(c *gin.Context) {
	rows, err := h.db.Query(c.Request.Context(),
		`SELECT id, customer_id, total_cents, status, created_at FROM orders
		 WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 50`, c.Query("customerId"))
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	orders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[order])
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.JSON(http.StatusOK, orders)
}

func (h *handlers) createOrder(c *gin.Context) {
	var in struct {
		CustomerID string `json:"customerId" binding:"required"`
		TotalCents int64  `json:"totalCents" binding:"required,gt=0"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	var o order
	err := h.db.QueryRow(c.Request.Context(),
		`INSERT INTO orders (customer_id, total_cents, status) VALUES ($1, $2, 'pending')
		 RETURNING id, customer_id, total_cents, status, created_at`,
		in.CustomerID, in.TotalCents).Scan(&o.ID, &o.CustomerID, &o.TotalCents, &o.Status, &o.CreatedAt)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.JSON(http.StatusCreated, o)
}

func (h *handlers) getOrder(c *gin.Context) {
	ctx := c.Request.Context()
	key := "order:" + c.Param("id")
	if cached, err := h.cache.Get(ctx, key).Bytes(); err == nil {
		c.Data(http.StatusOK, "application/json", cached)
		return
	}
	var o order
	err := h.db.QueryRow(ctx,
		`SELECT id, customer_id, total_cents, status, created_at FROM orders WHERE id = $1`,
		c.Param("id")).Scan(&o.ID, &o.CustomerID, &o.TotalCents, &o.Status, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	if body, err := json.Marshal(o); err == nil {
		h.cache.Set(ctx, key, body, 5*time.Minute)
	}
	c.JSON(http.StatusOK, o)
}
