# The sandbox's one image: every container of docker-compose.yml runs it with another command.
#
# No registry is used (classrooms and CI are offline): the base is a Debian root file system
# made locally with debootstrap and imported, and the Python packages come from a wheelhouse
# built on the host. .ci/docker.sh does all three steps:
#   debootstrap --variant=minbase --include=python3,python3-venv bookworm ROOTFS MIRROR
#   tar -C ROOTFS -c . | docker import - sandbox-base:bookworm
#   pip wheel . -w build/wheelhouse && docker build -t darkweb-sandbox .
FROM sandbox-base:bookworm

COPY build/wheelhouse/ /tmp/wheelhouse/
# A venv: Debian's python3 refuses pip installs into the system (PEP 668).
RUN python3 -m venv /opt/sandbox \
    && /opt/sandbox/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheelhouse \
        --disable-pip-version-check -q darkweb-sandbox \
    && rm -rf /tmp/wheelhouse

ENV PATH=/opt/sandbox/bin:$PATH \
    PYTHONUNBUFFERED=1
# /data holds the world (built once), /state trainees' writes and the logs, shared by all.
VOLUME ["/data", "/state"]
WORKDIR /data
ENTRYPOINT ["sandbox"]
CMD ["--help"]
