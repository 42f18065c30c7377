-- Widget: conditions scanned with goto (gopher-lua accepts goto; plain Lua 5.1 does not)
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the widget controller"
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.type ~= "Ready" then goto continue end
  if c.status == "True" then
    hs.status = "Healthy"
    hs.message = c.message or ""
    return hs
  end
  if string.find(c.reason or "", "^Failed") then
    hs.status = "Degraded"
    hs.message = string.format("%s: %s", c.reason, c.message or "")
    return hs
  end
  ::continue::
end
hs.status = "Progressing"
hs.message = "Not ready yet"
return hs
