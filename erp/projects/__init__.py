"""The ERP implementation project (实施项目): phases and gate reviews, plan, budget, earned value and KPIs."""
