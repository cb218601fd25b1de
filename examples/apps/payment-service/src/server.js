const express = require('express');
const mongoose = require('mongoose');
const Redis = require('ioredis');
const { Payment } = require('./models');

const port = Number(process.env.PORT || 3000);
const redis = new Redis(process.env.REDIS_URL || 'redis://localhost:6379');
const app = express();
app.use(express.json({ limit: '16kb' }));

app.get('/healthz', (req, res) => {
  const ok = mongoose.connection.readyState === 1 && redis.status === 'ready';
  res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
});

// Idempotency-Key makes a retried checkout request return the first answer.
app.post('/payments', async (req, res, next) => {
  try {
    const key = req.get('Idempotency-Key');
    if (!key) return res.status(400).json({ error: 'Idempotency-Key header is required' });
    const seen = await redis.get(`idem:${key}`);
    if (seen) return res.status(200).json(JSON.parse(seen));

    const { orderId, amountCents, currency } = req.body;
    const payment = await Payment.create({ orderId, amountCents, currency, status: 'authorised' });
    await redis.set(`idem:${key}`, JSON.stringify(payment), 'EX', 24 * 3600);
    res.status(201).json(payment);
  } catch (err) {
    next(err);
  }
});

app.get('/payments/:id', async (req, res, next) => {
  try {
    const payment = await Payment.findById(req.params.id).lean();
    if (!payment) return res.status(404).json({ error: 'not found' });
    res.json(payment);
  } catch (err) {
    next(err);
  }
});

app.use((err, req, res, _next) => {
  console.error(err);
  res.status(500).json({ error: 'internal error' });
});

async function main() {
  await mongoose.connect(process.env.MONGODB_URI || 'mongodb://localhost:27017/payments');
  const server = app.listen(port, () => console.log(`payment-service listening on ${port}`));
  // Finish in-flight payments before the pod goes away.
  process.on('SIGTERM', () => server.close(() => mongoose.disconnect().then(() => redis.quit())));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
