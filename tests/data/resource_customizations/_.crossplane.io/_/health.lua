-- every kind of every *.crossplane.io group; no status yet gives an empty status ({}), as Argo's
if obj.status == nil or obj.status.conditions == nil then
  return {}
end
local ready, synced
for i, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then ready = c end
  if c.type == "Synced" then synced = c end
end
if synced ~= nil and synced.status == "False" then
  return {status = "Degraded", message = string.upper(string.sub(synced.reason or "", 1, 1)) .. string.sub(synced.reason or "", 2) .. ": " .. (synced.message or "")}
end
if ready ~= nil and ready.status == "True" then
  return {status = "Healthy", message = "Resource is up-to-date."}
end
return {status = "Progressing", message = string.rep(".", 3) .. " " .. tostring(#obj.status.conditions) .. " condition(s)"}
