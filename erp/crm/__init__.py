"""Customer management (CRM): customers (客户) and contacts (联系人), leads and opportunities (线索 / 商机 /
销售漏斗), activities and follow-ups, and customer satisfaction (客户满意度)."""
