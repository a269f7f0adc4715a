"""People and the groups they belong to; BPMN lanes name groups."""
