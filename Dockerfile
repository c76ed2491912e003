# syntax=docker/dockerfile:1
# pgmux in a container: a Maven build stage, then a JRE 21 runtime stage running as a user of its own.
#
#   docker build -t pgmux .
#   docker run --rm -p 6543:6543 -p 6542:6542 -p 6544:6544 -v "$PWD/pgmux.yaml:/etc/pgmux/pgmux.yaml:ro" pgmux
#   docker run --rm -p 6543:6543 -p 6542:6542 pgmux --upstream postgresql://USER:PASSWORD@HOST:5432/DB --listen-host 0.0.0.0
#
# A mounted configuration must set listen.host: 0.0.0.0 (pgmux listens on 127.0.0.1 by default). The transport
# is auto: io_uring where the container may use it, else epoll; Docker's default seccomp profile (25.0 and
# newer) forbids io_uring, and pgmux then logs why and runs on epoll. See docs/deployment.md.

FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml ./
COPY protocol/pom.xml protocol/
COPY config/pom.xml config/
COPY proxy/pom.xml proxy/
COPY loadtest/pom.xml loadtest/
COPY protocol/src protocol/src
COPY config/src config/src
COPY proxy/src proxy/src
# The Maven repository in a BuildKit cache: dependencies are downloaded once, not on every source change.
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp -q -pl proxy -am -DskipTests package

FROM eclipse-temurin:21-jre
RUN groupadd --system --gid 10001 pgmux \
 && useradd --system --uid 10001 --gid pgmux --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin pgmux \
 && mkdir -p /etc/pgmux
COPY --from=build /build/proxy/target/pgmux.jar /opt/pgmux/pgmux.jar
COPY packaging/docker/pgmux.yaml /etc/pgmux/pgmux.yaml
USER 10001:10001
# transaction mode, session mode, admin HTTP (/metrics, /health, /ready)
EXPOSE 6543 6542 6544
# Keep the heap to a share of the container's memory; SIGTERM drains (limits.shutdown_timeout) and exits 0.
# G1 with a full collection after 30 s without any and 10-30% of the heap kept free: the committed heap
# (and the RSS) follows live data, not the garbage of the last burst of logins (docs/benchmarks.md,
# "Memory per idle client"); the same heap options as scripts/jdk.sh.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", \
            "-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=30000", \
            "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", \
            "-jar", "/opt/pgmux/pgmux.jar"]
CMD ["--config", "/etc/pgmux/pgmux.yaml"]
