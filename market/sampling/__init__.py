"""Sampling tests (检测): sampling orders with accredited labs, results and the price gate."""
