# The reference server as a container image: multi-stage (SDK builds, the ASP.NET runtime image runs),
# non-root, able to run with a read-only root filesystem (writes only /data and /tmp), data directory
# as a volume, a health check that needs no curl.
#   docker build -t sndctl-provisioning .
#   docker run --read-only --tmpfs /tmp -v sndctl-data:/data -p 8080:8080 sndctl-provisioning
# docs/deployment.md walks from this image to three replicas on Kubernetes.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish samples/Sndctl.Provisioning.Host/Sndctl.Provisioning.Host.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
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
