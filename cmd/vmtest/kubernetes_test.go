package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/vmtest/vmtest/shard"
)

// k8sObject is the part of a Kubernetes object the example manifests set.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		AccessModes    []string `yaml:"accessModes"`
		CompletionMode string   `yaml:"completionMode"`
		Completions    *int     `yaml:"completions"`
		Parallelism    *int     `yaml:"parallelism"`
		BackoffLimit   *int     `yaml:"backoffLimit"`
		Template       struct {
			Spec k8sPod `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sPod struct {
	RestartPolicy string `yaml:"restartPolicy"`
	Containers    []struct {
		Image string `yaml:"image"`
		Env   []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				FieldRef struct {
					FieldPath string `yaml:"fieldPath"`
				} `yaml:"fieldRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Args         []string `yaml:"args"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// readManifest decodes every YAML document of examples/kubernetes/<name>, keyed by kind.
func readManifest(t *testing.T, name string) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "kubernetes", name))
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	objs := map[string]k8sObject{}
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		require.NoError(t, err, name)
		objs[o.Kind] = o
	}
}

// The example Indexed Job is one: N pods at once, each told its index by the downward API and the count by
// VMTEST_SHARD_COUNT, all writing to one shared volume under their index; its arguments are flags vmtest
// load takes (run here against no server: it gets as far as asking for the model); the merge Job merges
// exactly the N directories the shards write.
func TestKubernetesIndexedJob(t *testing.T) {
	objs := readManifest(t, "job.yaml")
	pvc, job := objs["PersistentVolumeClaim"], objs["Job"]
	assert.Equal(t, []string{"ReadWriteMany"}, pvc.Spec.AccessModes, "pods on several nodes share the volume")
	assert.Equal(t, "batch/v1", job.APIVersion)
	s := job.Spec
	assert.Equal(t, "Indexed", s.CompletionMode)
	require.NotNil(t, s.Completions)
	require.NotNil(t, s.Parallelism)
	assert.Equal(t, *s.Completions, *s.Parallelism, "every shard runs at once")
	require.NotNil(t, s.BackoffLimit)
	assert.Equal(t, 0, *s.BackoffLimit, "a shard is never sent twice")
	pod := s.Template.Spec
	assert.Equal(t, "Never", pod.RestartPolicy)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.Name == shard.EnvIndex {
			require.NotNil(t, e.ValueFrom)
			assert.Equal(t, "metadata.annotations['batch.kubernetes.io/job-completion-index']", e.ValueFrom.FieldRef.FieldPath)
		}
	}
	require.Contains(t, env, shard.EnvIndex)
	assert.Equal(t, strconv.Itoa(*s.Completions), env[shard.EnvCount])
	require.Len(t, c.VolumeMounts, 1)
	require.Len(t, pod.Volumes, 1)
	assert.Equal(t, c.VolumeMounts[0].Name, pod.Volumes[0].Name)
	assert.Equal(t, pvc.Metadata.Name, pod.Volumes[0].PersistentVolumeClaim.ClaimName)
	mount := c.VolumeMounts[0].MountPath

	// The arguments as the kubelet expands them ($(VAR) from the container's env), for shard 2.
	results := t.TempDir()
	t.Setenv(shard.EnvIndex, "2")
	t.Setenv(shard.EnvCount, env[shard.EnvCount])
	vals := map[string]string{"VLLM_URL": "http://127.0.0.1:1", "VMTEST_START_AT": "2030-01-02T03:04:05Z", shard.EnvIndex: "2"}
	args := make([]string, len(c.Args))
	outAt := -1
	for i, a := range c.Args {
		if a == "-out" {
			outAt = i + 1
		}
		for k, v := range vals {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		require.NotContains(t, a, "$(", "argument %q names a variable the container does not set", c.Args[i])
		args[i] = strings.Replace(a, mount, results, 1)
	}
	require.Positive(t, outAt)
	assert.Equal(t, mount+"/shard-$("+shard.EnvIndex+")", c.Args[outAt])
	assert.Contains(t, c.Args, "$(VMTEST_START_AT)")
	code, _, stderr := runCmd(context.Background(), args...)
	assert.Equal(t, exitFail, code, "every flag valid, no server: %s", stderr)
	assert.Contains(t, stderr, "no answer from the server")

	merge := readManifest(t, "merge-job.yaml")["Job"]
	mc := merge.Spec.Template.Spec.Containers
	require.Len(t, mc, 1)
	assert.Equal(t, c.Image, mc[0].Image)
	want := []string{"merge", "-out", mount + "/merged"}
	for i := range *s.Completions {
		want = append(want, mount+"/shard-"+strconv.Itoa(i))
	}
	assert.Equal(t, want, mc[0].Args)
	assert.Equal(t, pvc.Metadata.Name, merge.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
}
