#!/usr/bin/env bash
# Deploy MODEL (azureml:NAME:VERSION) to online endpoint ENDPOINT as its deployment "blue", with
# all traffic: the endpoint is created on first use, the deployment created or updated.
#   bash ci/deploy_online.sh ENDPOINT MODEL      (MLYARD_URL, MLYARD_KEY from the CI secrets)
set -euo pipefail
endpoint=$1
model=$2
workspace=(--workspace-name "$PROD_WORKSPACE")
if ! mlyard "${workspace[@]}" online-endpoint show --name "$endpoint" -o none 2>/dev/null; then
  mlyard "${workspace[@]}" online-endpoint create --file endpoints/online/endpoint.yml --name "$endpoint" -o none
fi
if mlyard "${workspace[@]}" online-deployment show --endpoint-name "$endpoint" --name blue -o none 2>/dev/null; then
  mlyard "${workspace[@]}" online-deployment update --file endpoints/online/deployment.yml \
    --endpoint-name "$endpoint" --set "model=$model" -o none
else
  mlyard "${workspace[@]}" online-deployment create --file endpoints/online/deployment.yml \
    --endpoint-name "$endpoint" --set "model=$model" --all-traffic -o none
fi
echo "$endpoint serves $model"
