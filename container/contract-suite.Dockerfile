# The contract suite in a container, for `make image-test`: it runs beside the mock on a Docker
# network and checks it by name, webhooks included (the mock reaches the suite's receiver by its
# name, which it could not do on the host's 127.0.0.1). The mock's image plus pytest and the suite.
ARG IMAGE=audjust-mock:local
FROM ${IMAGE}
USER root
COPY build/wheels/ /wheels/
RUN pip_wheel="$(echo /wheels/pip-*.whl)" \
    && python "$pip_wheel/pip" install --quiet --no-index --find-links /wheels --no-cache-dir \
        --disable-pip-version-check pytest \
    && rm -rf /wheels
COPY contract_tests/ /suite/contract_tests/
WORKDIR /suite
USER audjust
ENTRYPOINT ["python", "-m", "pytest", "-p", "no:cacheprovider", "contract_tests"]
