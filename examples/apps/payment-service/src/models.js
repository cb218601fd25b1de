const mongoose = require('mongoose');

const paymentSchema = new mongoose.Schema(
  {
    orderId: { type: String, required: true, index: true },
    amountCents: { type: Number, required: true, min: 1 },
    currency: { type: String, required: true, default: 'EUR' },
    status: { type: String, enum: ['authorised', 'captured', 'failed', 'refunded'], required: true },
    providerRef: String,
  },
  { timestamps: true }
);

module.exports.Payment = mongoose.model('Payment', paymentSchema);
