# Kubelite in a container: one image, every component (`kubelite member`, `load-balancer`,
# `kubelet`, `store`, `apiserver`, `scheduler`, `controller-manager`, `certs`, `up`, `logs`).
# compose.yaml runs the HA control plane from it; without Docker, `bin/kubelite up --ha` runs the
# same topology as plain processes (docs/launcher.md).
#
#   docker build -t kubelite:dev .
#   docker run --rm kubelite:dev member --help
# (`kubelite up` binds 127.0.0.1 and so is for inside a container only; use compose.yaml.)
#
# Stage 1: build with the Maven wrapper (needs only a JDK), then gather the launcher's jar and
# its runtime class path (launcher/target/classpath.txt) into one directory.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl launcher -am package \
 && mkdir -p /out/lib \
 && cp launcher/target/kubelite-launcher-*.jar /out/lib/ \
 && tr ':' '\n' < launcher/target/classpath.txt | xargs -I{} cp {} /out/lib/

# Stage 2: a JRE and the jars; curl for the HTTPS health check (docker/kubelite-healthcheck).
FROM eclipse-temurin:17-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lib /opt/kubelite/lib
COPY docker/kubelite docker/kubelite-healthcheck /usr/local/bin/
# Four JVMs share a laptop in compose.yaml: small, few-threaded collectors.
ENV KUBELITE_HOME=/opt/kubelite \
    JAVA_OPTS="-XX:+UseSerialGC -XX:MaxRAMPercentage=25"
# 6443: API server (or load balancer); 2379: store client (etcdctl); 2380: store peers.
EXPOSE 6443 2379 2380
VOLUME /data
ENTRYPOINT ["kubelite"]
CMD ["help"]
