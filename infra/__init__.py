"""Local launchers for the real services casesync runs on: Apache Kafka (KRaft) and PostgreSQL.

No Docker needed: the broker's jars come from Maven Central (``infra/kafka/pom.xml``) and
PostgreSQL from Debian's packages. Both run as private instances on 127.0.0.1 with their data
and logs under the run folder (``.run/`` by default).
"""
