"""Operating casesync: status and health verdicts, topic tail, dead-letter redrive, replay.

``status`` (pure verdict rules) and ``recording`` (the replay file format) hold the logic; the
other modules are thin shells over Kafka and PostgreSQL; ``cli`` registers the commands.
"""
