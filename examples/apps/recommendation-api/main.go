// Command recommendation-api returns product recommendations for a shopper.
package main

import (
	"log"
	"net/http"
	"os"
	"strconv"

	"github.com/gin-gonic/gin"
)

func main() {
	m, err := loadModel(getenv("MODEL_PATH", "/models/recs.json"))
	if err != nil {
		log.Fatalf("load model: %v", err)
	}

	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/recommendations/:userId", func(c *gin.Context) {
		limit, err := strconv.Atoi(c.DefaultQuery("limit", "12"))
		if err != nil || limit < 1 || limit > 50 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "limit must be 1..50"})
			return
		}
		recs := m.recommend(c.Param("userId"), c.Query("context"), limit)
		c.JSON(http.StatusOK, gin.H{"userId": c.Param("userId"), "items": recs, "modelVersion": m.Version})
	})

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
