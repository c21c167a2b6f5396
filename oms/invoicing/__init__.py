"""Invoicing (发票): invoice requests, per-line invoice amounts with their tax, issuing through a provider, and
red-letter reversal (红冲) so that, line by line, what was invoiced equals what the buyer finally paid."""
