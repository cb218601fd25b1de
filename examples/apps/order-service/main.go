// Command order-service serves the storefront's order API.
package main

import (
	"context"
	"log"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx := context.Background()

	db, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatalf("connect postgres: %v", err)
	}
	defer db.Close()

	cache := redis.NewClient(&redis.Options{Addr: getenv("REDIS_ADDR", "localhost:6379")})
	defer cache.Close()

	h := &handlers{db: db, cache: cache}

	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", h.health)
	r.GET("/orders", h.listOrders)
	r.POST("/orders", h.createOrder)
	r.GET("/orders/:id", h.getOrder)

	if err := r.Run(":" + getenv("PORT", "8080")); err != nil {
		log.Fatal(err)
	}
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
