# syntax=docker/dockerfile:1.7-labs
# The reference server as a container image: multi-stage (SDK builds, the ASP.NET runtime image runs),
# non-root, able to run with a read-only root filesystem (writes only /data and /tmp), data directory
# as a volume, a health check that needs no curl. The restore is its own layer: it is rebuilt only when a
# project file or the package versions change.
#   docker build --build-arg VERSION=$(git describe --tags --abbrev=0 | sed 's/^v//') \
#     --build-arg REVISION=$(git rev-parse HEAD) -t sndctl-provisioning:0.2.0 .
#   docker run --read-only --tmpfs /tmp -v sndctl-data:/data -p 8080:8080 sndctl-provisioning:0.2.0
# docs/deployment.md walks from this image to three replicas on Kubernetes, and says how to sign it.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG VERSION=0.2.0-local
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props BannedSymbols.txt Sndctl.Provisioning.sln ./
COPY --parents src/*/*.csproj samples/*/*.csproj ./
RUN dotnet restore samples/Sndctl.Provisioning.Host/Sndctl.Provisioning.Host.csproj
COPY . .
# No git history in the build context (.dockerignore): the version comes from the build argument.
RUN dotnet publish samples/Sndctl.Provisioning.Host/Sndctl.Provisioning.Host.csproj -c Release -o /app --nologo --no-restore \
    -p:MinVerSkip=true -p:Version=$VERSION

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
ARG VERSION=0.2.0-local
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Sndctl.Provisioning" \
      org.opencontainers.image.description="Certificate provisioning server for device fleets (ACME DNS-01, private CA, ACME front door)" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="https://github.com/sndctl/Sndctl.Provisioning" \
      org.opencontainers.image.url="https://github.com/sndctl/Sndctl.Provisioning" \
      org.opencontainers.image.documentation="https://github.com/sndctl/Sndctl.Provisioning/blob/main/docs/deployment.md" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Sndctl.Provisioning contributors"
WORKDIR /app
COPY --from=build /app .
# The image's non-root user (UID 1654); /data is the only place the server writes (SQLite file,
# generated admin key and key-ring certificate when none are given).
RUN mkdir /data && chown "$APP_UID" /data
USER $APP_UID
VOLUME /data
ENV ASPNETCORE_URLS=http://+:8080 \
    Provisioning__DataDirectory=/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "Sndctl.Provisioning.Host.dll", "health", "--url", "http://127.0.0.1:8080/api/health/live"]
ENTRYPOINT ["dotnet", "Sndctl.Provisioning.Host.dll"]
