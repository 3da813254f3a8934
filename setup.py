"""Packaging for ccctl, the hospital contact center controller for FreeSWITCH."""

from setuptools import find_namespace_packages, setup

setup(
    name="ccctl",
    version="0.1.0",
    description="Hospital contact center on FreeSWITCH: ESL controller, YAML IVR, skill-based ACD",
    python_requires=">=3.11",
    # namespace packages: the data folders (web templates and static files, e-mail templates) are
    # packages too, so setuptools installs them as declared instead of warning about each one
    packages=find_namespace_packages(include=["ccctl", "ccctl.*"], exclude=["*.__pycache__"]),
    include_package_data=True,
    package_data={"ccctl.web": ["templates/*.html", "static/*"], "ccctl.channels": ["templates/*"]},
    install_requires=[
        "gevent>=24.2",
        "SQLAlchemy>=2.0",
        "alembic>=1.13",
        "psycopg2-binary>=2.9",
        "PyYAML>=6.0",
        "Jinja2>=3.1",
        "boto3>=1.34",
        "pydub>=0.25",
        "click>=8.1",
        "argon2-cffi>=23.1",
        "psutil>=5.9",
        "Flask>=3.0",
        # hospital systems: HL7 v2 parsing (MLLP framing is ours, on gevent) and FHIR R4 validation
        "hl7>=0.4.5",
        "fhir.resources>=8.0",
        # knowledge-base search: BM25 over jieba-segmented Chinese and Snowball-stemmed Polish/English
        "bm25s>=0.2",
        "jieba>=0.42",
        "PyStemmer>=2.2",
        # recordings, faxes and uploads sealed at rest with AES-GCM
        "cryptography>=42",
    ],
    extras_require={
        # `ccctl bench calls` runs greenswitch's controller beside ours; nothing else uses it
        "bench": ["greenswitch>=0.0.19"],
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            "pytest-postgresql>=6",
            "ruff>=0.6",
            "playwright>=1.40",
            "moto[server]>=5.0",
            "aiosmtpd>=1.4",
            # the FHIR API is tested with a real client library
            "fhirpy>=2.0",
        ],
    },
    entry_points={"console_scripts": ["ccctl=ccctl.cli:main"]},
)
