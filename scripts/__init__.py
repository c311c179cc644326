"""Operations scripts: packaging, parameter resolution and smoke tests of deployed slots."""
