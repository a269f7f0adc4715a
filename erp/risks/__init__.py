"""The risk register of implementation projects (风险登记册) and its early warning (预警机制)."""
