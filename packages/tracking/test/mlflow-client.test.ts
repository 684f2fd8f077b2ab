// Pure parts of the client (no server): how a run's artifact_uri maps onto the server's artifact proxy.
import { describe, expect, it } from 'vitest';
import { MlflowClient, proxiedArtifactRoot } from '../src/mlflow-client';

describe('proxiedArtifactRoot', () => {
  it('maps the artifact_uri forms the MLflow server resolves (handlers._get_proxied_run_artifact_destination_path)', () => {
    expect(proxiedArtifactRoot('mlflow-artifacts:/3/0a1b/artifacts')).toBe('3/0a1b/artifacts');
    expect(proxiedArtifactRoot('mlflow-artifacts://mlflow.example:5000/3/0a1b/artifacts')).toBe('3/0a1b/artifacts');
    expect(proxiedArtifactRoot('http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/exp/3/0a1b/artifacts')).toBe(
      'exp/3/0a1b/artifacts',
    );
  });

  it('refuses artifact roots the proxy cannot reach, saying how to start the server', () => {
    expect(() => proxiedArtifactRoot('/srv/mlruns/3/0a1b/artifacts')).toThrow(
      /not served through the MLflow artifact proxy.*--artifacts-destination/,
    );
    expect(() => proxiedArtifactRoot('s3://bucket/3/0a1b/artifacts')).toThrow(/expected 'mlflow-artifacts:\/\.\.\.'/);
  });
});

describe('MlflowClient', () => {
  it('rejects tracking URIs that are not a tracking server', () => {
    expect(() => new MlflowClient('file:///tmp/mlruns')).toThrow(/scheme 'file:'; expected http: or https:/);
    expect(() => new MlflowClient('localhost:5000x')).toThrow();
    expect(new MlflowClient('http://127.0.0.1:5000/').uri).toBe('http://127.0.0.1:5000');
  });
});
