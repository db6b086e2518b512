#!/usr/bin/env bash
# Collects the pinned Kafka broker jars from Maven Central into .cache/kafka/<version>/libs once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
libs="$here/../../.cache/kafka/$version/libs"
if [ -f "$libs/kafka_2.13-$version.jar" ] && [ -f "$libs/.complete" ]; then
  exit 0
fi
echo "fetching Apache Kafka $version broker jars from Maven Central ..."
rm -rf "$libs"
mvn -q -B -f "$here/pom.xml" package
touch "$libs/.complete"
echo "Kafka $version jars in $(cd "$libs" && pwd)"
