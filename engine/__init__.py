"""The BPMN runtime over SpiffWorkflow and SQL. Public API: engine.runtime.Engine (start, complete, claim,
deliver_message, fire_due_timers, retry, suspend, resume, terminate, deploy), engine.operators.OperatorRegistry,
engine.specs.BpmnError, engine.errors and engine.queries. SpiffWorkflow is imported only inside this package."""
