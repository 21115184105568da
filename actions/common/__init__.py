"""What every action shares: inputs, exports, outputs, audit records and safe errors."""
