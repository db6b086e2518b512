"""Access as data: the principals, topics and ACLs the agreements in force imply.

model          plain values: ACLs, wanted principals and topics, the cluster's state (pure)
desired        what the agreements in force imply, with the reason for every grant (pure)
plan           desired against actual: create, grant, revoke, leave alone (pure)
render         a plan for people and as JSON (pure)
credentials    a new principal's password, in a 0600 file and nowhere else
kafka_applier  read the cluster's state and apply a plan through an admin client (edge)
"""
